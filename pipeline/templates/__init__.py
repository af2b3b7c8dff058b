"""Report and memo templates (jinja2 HTML, CSS, the memo DOCX and its generator, standard clauses)."""
