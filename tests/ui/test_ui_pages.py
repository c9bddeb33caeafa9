"""The staff web UI in a real browser: login per role, a case from creation to decision, errors, screenshots."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, expect

from rules.lifecycle import allowed_actions
from tests.conftest import new_case
from tests.ui.conftest import login, shot

START_HEADINGS = {
    "counselor": "Meine Fälle nach Stand",
    "authority_liaison": "Eingang der Ausländerbehörde",
    "authority_lead": "Eskalationen",
    "ops": "Hängende Fälle",
}


async def forms_offered(page: Page) -> set[str]:
    ids = await page.locator("form.action").evaluate_all("fs => fs.map(f => f.id)")
    return {i.removeprefix("form-") for i in ids}


async def new_page(browser: Browser, base_url: str, user: Any) -> tuple[BrowserContext, Page]:
    ctx = await browser.new_context(base_url=base_url, locale="de-DE", viewport={"width": 1366, "height": 900})
    ctx.set_default_timeout(30_000)
    page = await ctx.new_page()
    await login(page, user.user.name)
    return ctx, page


async def test_not_logged_in_goes_to_login_and_bad_password_is_refused(page: Page, staff: dict[str, Any]) -> None:
    await page.goto("/cases")
    await expect(page).to_have_url(re.compile(r"/login\?next=/cases$"))
    await expect(page.locator("html")).to_have_attribute("lang", "de")
    await page.get_by_label("Benutzername").fill(staff["counselor"].user.name)
    await page.get_by_label("Passwort").fill("falsch-falsch")
    await page.get_by_role("button", name="Anmelden").click()
    await expect(page.get_by_role("alert")).to_contain_text("Benutzername oder Passwort ist falsch")
    await shot(page, "login")


async def test_each_role_sees_its_start_page(browser: Browser, base_url: str, staff: dict[str, Any]) -> None:
    for role, heading in START_HEADINGS.items():
        ctx, page = await new_page(browser, base_url, staff[role])
        await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        await expect(page.locator(".who")).to_contain_text(staff[role].user.name)
        nav = page.get_by_role("navigation", name="Hauptnavigation")
        await expect(nav.get_by_role("link", name="Neuer Fall")).to_have_count(1 if role == "counselor" else 0)
        await shot(page, f"start-{role}")
        kept = [c for c in await ctx.cookies() if c["name"] == "bleibe_session"]
        assert kept
        await page.get_by_role("button", name="Abmelden").click()
        await expect(page.get_by_role("status")).to_contain_text("Sie sind abgemeldet")
        await page.goto("/")
        await expect(page).to_have_url(re.compile(r"/login$"))
        await ctx.add_cookies(kept)  # the cookie from before the logout, put back: ended on the server
        await page.goto("/")
        await expect(page).to_have_url(re.compile(r"/login$"))
        await ctx.close()


async def fill_person(page: Page, reference: str, **over: str) -> None:
    values = {
        "person-reference": reference, "person-given-name": "Amina", "person-family-name": "Rahimi",
        "person-birth-date": "1990-04-17", "person-nationality": "AFG", "person-entry-date": "2016-09-01",
        "person-duldung-since": "2017-03-10", "person-duldung-valid-until": "2027-06-30",
        "person-employment-since": "2021-05-01", "person-employment-hours-per-week": "38",
        "person-minor-children": "0", **over,
    }
    for field, value in values.items():
        await page.locator(f"#f-{field}").fill(value)
    selects = {"person-duldung-type": "regular", "person-language-level": "A2", "person-livelihood-secured": "largely",
               "person-passport-status": "valid", "person-identity-clarified": "ja", "person-civic-test-passed": "ja",
               "person-employment-employed": "ja", "person-criminal-record-convicted": "nein"}
    for field, value in selects.items():
        await page.locator(f"#f-{field}").select_option(value)
    await page.locator("#f-consent-to-share-given").check()


async def test_case_from_creation_to_decision_through_the_ui(browser: Browser, base_url: str,
                                                             staff: dict[str, Any]) -> None:
    reference = f"UI-{uuid.uuid4().hex[:8]}"
    ctx, page = await new_page(browser, base_url, staff["counselor"])

    # New case: a German error next to the field first, then the eligibility check, then saving.
    await page.goto("/cases/new")
    await fill_person(page, reference, **{"person-entry-date": "1989-01-01"})
    await page.get_by_role("button", name="Prüfen").click()
    await expect(page.locator("#f-person-entry-date-fehler")).to_have_text("liegt vor dem Geburtsdatum")
    await expect(page.locator("#f-person-entry-date")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_role("button", name="Speichern")).to_have_count(0)
    await shot(page, "case-new-error")
    await page.locator("#f-person-entry-date").fill("2016-09-01")
    await page.get_by_role("button", name="Prüfen").click()
    row = page.locator("table.eligibility tr", has_text="§ 25b AufenthG")
    await expect(row.locator(".badge")).to_have_text("erfüllt")
    await shot(page, "case-new-checked")
    await page.get_by_role("button", name="Speichern").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(f"Fall {reference}")
    await expect(page.locator(".steps li.current")).to_contain_text("Aufnahme")
    case_url = page.url.split("?")[0]
    case_id = case_url.rsplit("/", 1)[1]

    # Intake → document collection, every checklist item recorded, notes, submission.
    await page.locator("#complete_intake-pathway").select_option("25b")
    await page.locator("#form-complete_intake").get_by_role("button").click()
    await expect(page.locator(".steps li.current")).to_contain_text("Unterlagen")
    await expect(page.locator(".checklist li").first).to_contain_text("fehlt")
    assert await forms_offered(page) == set(allowed_actions("counselor", "counseling", "document_collection"))
    while True:
        missing = await page.locator("#record_document-type option", has_text="(fehlt)").all()
        if not missing:
            break
        await page.locator("#record_document-type").select_option(await missing[0].get_attribute("value"))
        await page.locator("#record_document-state").select_option("received")
        await page.locator("#form-record_document").get_by_role("button").click()
        await expect(page.get_by_role("status")).to_contain_text("Unterlage erfassen")
    await expect(page.locator(".checklist li", has_text="fehlt")).to_have_count(0)
    for text, visibility in (("Nur für uns: Klientin ruft montags an", "internal"),
                             ("Für beide Stellen: Arbeitgeber bestätigt Vertrag", "shared")):
        await page.locator("#add_note-text").fill(text)
        await page.locator("#add_note-visibility").select_option(visibility)
        await page.locator("#form-add_note").get_by_role("button").click()
        await expect(page.locator(".note", has_text=text)).to_have_count(1)
    await expect(page.locator(".note-internal")).to_contain_text("Intern")
    await shot(page, "case-counselor-documents")
    await page.locator("#form-submit_to_authority").get_by_role("button").click()
    await expect(page.locator(".steps li.current")).to_contain_text("Prüfung ABH")
    offered = await forms_offered(page)
    assert offered == set(allowed_actions("counselor", "counseling", "authority_review"))
    assert not offered & {"acknowledge", "request_documents", "prepare_decision", "decide", "record_interim"}
    await ctx.close()

    # The liaison finds it in the inbox and takes it to a decision.
    ctx, page = await new_page(browser, base_url, staff["authority_liaison"])
    await page.get_by_role("link", name=reference).click()
    await expect(page.locator(".steps li.current")).to_contain_text("Prüfung ABH")
    offered = await forms_offered(page)
    assert offered == set(allowed_actions("authority_liaison", "authority", "authority_review"))
    assert not offered & {"complete_intake", "record_document", "submit_to_authority", "withdraw", "revoke_consent"}
    await expect(page.locator(".note", has_text="Für beide Stellen")).to_have_count(1)
    await expect(page.get_by_text("Nur für uns")).to_have_count(0)
    await expect(page.get_by_text("Rahimi")).to_have_count(0)  # the authority sees the reference, not the name
    await page.locator("#form-acknowledge").get_by_role("button").click()
    await expect(page.locator("#acknowledge-file-number-fehler")).to_have_text("Pflichtfeld")
    await page.locator("#acknowledge-file-number").fill("ABH-2026-77")
    await page.locator("#form-acknowledge").get_by_role("button").click()
    await expect(page.get_by_role("status")).to_contain_text("Eingang bestätigen")
    await expect(page.locator(".page-head")).to_contain_text("ABH-2026-77")
    await shot(page, "case-liaison-review")
    await page.locator("#form-prepare_decision").get_by_role("button").click()
    await expect(page.locator(".steps li.current")).to_contain_text("Entscheidung")
    await page.locator("#decide-outcome").select_option("granted")
    await page.locator("#decide-permit").select_option("25b")
    await page.locator("#form-decide").get_by_role("button").click()
    await expect(page.locator("#decide-valid-until-fehler")).to_have_text("Pflichtfeld bei Erteilung")
    await page.locator("#decide-outcome").select_option("granted")
    await page.locator("#decide-permit").select_option("25b")
    await page.locator("#decide-valid-until").fill((date.today() + timedelta(days=730)).isoformat())
    await page.locator("#form-decide").get_by_role("button").click()
    await expect(page.locator(".steps li.current")).to_contain_text("Abgeschlossen")
    await expect(page.locator(".notice", has_text="Ergebnis")).to_contain_text("erteilt")
    await expect(page.locator("ol.timeline")).to_contain_text("Entscheiden")
    await shot(page, "case-closed")
    await page.set_viewport_size({"width": 820, "height": 1180})  # a tablet held upright: one column
    await shot(page, "case-closed-tablet")
    await ctx.close()

    ctx, page = await new_page(browser, base_url, staff["ops"])
    await page.goto(f"/cases/{case_id}")
    await expect(page.locator(".steps li.current")).to_contain_text("Abgeschlossen")
    assert await forms_offered(page) == set()
    await expect(page.get_by_text("Für beide Stellen")).to_have_count(0)  # operations see no case content
    await ctx.close()


async def test_case_list_filters_and_forbidden_pages(browser: Browser, base_url: str, staff: dict[str, Any]) -> None:
    made = await new_case(staff["counselor"])
    ctx, page = await new_page(browser, base_url, staff["counselor"])
    await page.goto("/cases")
    await page.get_by_label("Suche").fill(made["reference"])
    await page.get_by_label("Stand").select_option("intake")
    await page.get_by_role("button", name="Filtern").click()
    await expect(page.locator("tbody tr")).to_have_count(1)
    await expect(page.locator("tbody tr")).to_contain_text("Aufnahme")
    await shot(page, "cases")
    await page.get_by_label("Stand").select_option("closed")
    await page.get_by_role("button", name="Filtern").click()
    await expect(page.get_by_text("Keine Fälle zu diesen Filtern")).to_be_visible()
    await ctx.close()

    ctx, page = await new_page(browser, base_url, staff["authority_liaison"])
    response = await page.goto(f"/cases/{made['id']}")  # not submitted: the authority must not see it
    assert response is not None and response.status == 404
    await expect(page.get_by_role("alert")).to_contain_text("Fall nicht gefunden")
    response = await page.goto("/cases/new")
    assert response is not None and response.status == 403
    response = await page.goto("/ops")
    assert response is not None and response.status == 403
    await ctx.close()


async def test_forged_form_without_csrf_token_is_refused(page: Page, staff: dict[str, Any]) -> None:
    made = await new_case(staff["counselor"])
    await login(page, staff["counselor"].user.name)
    response = await page.request.post(f"/cases/{made['id']}/actions/withdraw", form={"reason": "gefälscht"})
    assert response.status == 403
    assert "Formular" in await response.text()
    check = await staff["counselor"].get(f"/api/v1/cases/{made['id']}")
    assert check.json()["stage"] == "intake"


async def test_meeting_agenda_and_minutes(browser: Browser, base_url: str, staff: dict[str, Any]) -> None:
    counselor = staff["counselor"]
    made = await new_case(counselor)
    made = await counselor.act(made["id"], "complete_intake", {"pathway": "25b"})
    made = await counselor.act(made["id"], "refer_to_meeting", {"reason": "Identitätsklärung besprechen"})
    ctx, page = await new_page(browser, base_url, counselor)
    await page.goto(f"/meetings/{made['meeting_id']}")
    item = page.locator("ol.agenda > li", has_text=made["reference"])
    await expect(item).to_contain_text("Identitätsklärung besprechen")
    n = await item.locator("input[type=hidden]").get_attribute("name")
    assert n is not None
    prefix = "mi-" + n.split(".")[1]
    await item.locator(f"#{prefix}-outcome").select_option("request_documents")
    await page.get_by_role("button", name="Protokoll speichern").click()
    await expect(item.locator(".field-error").first).to_have_text("Unterlagen und Frist angeben")
    await shot(page, "meeting")
    await item.locator(f"#{prefix}-outcome").select_option("back_to_review")
    await item.locator(f"#{prefix}-note").fill("Pass liegt vor, zurück in die Prüfung")
    await page.get_by_role("button", name="Protokoll speichern").click()
    await expect(page.get_by_role("status")).to_contain_text("Protokoll wurde gespeichert")
    await expect(page.locator("ol.agenda > li", has_text=made["reference"])).to_contain_text("Zurück in die Prüfung")
    await page.goto("/meetings")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Austauschtreffen")
    await shot(page, "meetings")
    await ctx.close()


async def test_reports_and_ops_pages_render(browser: Browser, base_url: str, staff: dict[str, Any]) -> None:
    ctx, page = await new_page(browser, base_url, staff["authority_lead"])
    await page.goto("/reports")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Berichte")
    await expect(page.locator("svg.chart")).to_have_count(2)
    await shot(page, "reports")
    await page.goto("/reports?date_from=2026-13-01")
    await expect(page.locator("#r-from-fehler")).to_have_text("ist kein gültiges Datum")
    await page.goto("/ops")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Hängende Fälle")
    await shot(page, "ops")
    await ctx.close()


async def test_ops_board_pages_oldest_first(browser: Browser, base_url: str, staff: dict[str, Any],
                                            dev_env: Any, monkeypatch: Any) -> None:
    """The board shows one page, says how many findings there are, and links to the next page."""
    from api.ui import pages

    lost = []
    for _ in range(2):
        made = await new_case(staff["counselor"])
        await dev_env.client.get_workflow_handle(made["id"]).terminate("ui test: lost workflow")
        lost.append(made["reference"])
    whole = await staff["ops"].get("/api/v1/ops/stuck?fresh=true&limit=1000")  # the board reuses this scan
    total = int(whole.headers["X-Total-Count"])
    assert total >= 2
    monkeypatch.setattr(pages, "OPS_PAGE", 1)
    ctx, page = await new_page(browser, base_url, staff["ops"])
    await page.goto("/ops")
    await expect(page.locator("tbody tr")).to_have_count(1)
    await expect(page.get_by_text(f"{total} Befunde, die ältesten zuerst; gezeigt werden 1.")).to_be_visible()
    first = await page.locator("tbody tr").inner_text()
    assert whole.json()[0]["reference"] in first
    await page.get_by_role("link", name="Weitere hängende Fälle").click()
    await expect(page).to_have_url(re.compile(r"/ops\?cursor="))
    await expect(page.locator("tbody tr")).to_have_count(1)
    assert whole.json()[1]["reference"] in await page.locator("tbody tr").inner_text()
    await expect(page.get_by_role("link", name="Zurück zu den ältesten Befunden")).to_be_visible()
    await shot(page, "ops-page-2")
    response = await page.goto("/ops?cursor=kaputt")
    assert response is not None and response.status == 200
    await expect(page.get_by_role("status")).to_contain_text("ungültig")
    await ctx.close()


async def test_login_form_without_its_token_is_refused(page: Page, staff: dict[str, Any]) -> None:
    response = await page.request.post("/login", form={"username": staff["counselor"].user.name,
                                                       "password": "geheim-und-lang-genug"}, max_redirects=0)
    assert response.status == 403
    assert "abgelaufen" in await response.text()
    assert "bleibe_session" not in response.headers.get("set-cookie", "")
