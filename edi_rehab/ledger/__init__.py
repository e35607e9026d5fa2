"""The claim ledger: what the hook checked and sent, what the payer paid, what that teaches.

``check``, ``split``, ``fix``, ``match`` and ``appeal`` given ``--ledger URL`` record each input
file in one database transaction, idempotent by the file's SHA-256: the 837P claims and lines
as sent, check's findings and which were fixed, split's decisions, the 835 payments and what
match made of them. ``match --ledger`` without claim files reads the claims back; the
duplicate-submission rule and ``report`` query the history.

Modules: :mod:`.schema` (tables and migrations), :mod:`.keys` (patient identifiers as keyed
hashes), :mod:`.facts` (rows from the toolkit's views; pure), :mod:`.store` (the database),
:mod:`.history` (the duplicate and year-to-date queries), :mod:`.report` (denial statistics
and their renderings). SQLAlchemy is imported only when a ledger is asked for.
"""
