"""Pure legal rules of Bleibe: deadlines, eligibility per pathway and document checklists.

Nothing here imports the rest of the project or does I/O, so the rules can run inside Temporal
workflows and be tested on their own. Import the submodules directly, e.g.
``from rules.deadlines import compute_deadline``.
"""
