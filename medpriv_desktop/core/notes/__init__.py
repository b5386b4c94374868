"""Clinical notes: PHI detection (Presidio engine, the project's recognizers, the PHI model), operators, batch
de-identification, synthesis and their metrics. Importing the package imports nothing heavy; the front ends reach it
through :mod:`medpriv_desktop.core.app`.

(A regular package, not a namespace one: import-linter's graph skips namespace packages, so before this file the
contracts never looked inside ``core/notes``.)
"""
