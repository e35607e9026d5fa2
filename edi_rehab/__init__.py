"""edi-rehab: check, fix and trace X12 837P/835 files for therapy billing.

The public API takes and returns values; nothing here touches files (see the ``cli`` package)::

    import edi_rehab
    doc = edi_rehab.parse(data)          # lossless: doc.to_bytes() == data
    for tx in doc.transactions():
        claims = edi_rehab.read_claims(tx)
    result = edi_rehab.fix(data, unsafe=True)   # result.data: the fixed bytes
"""

__version__ = "0.1.0"

#: public name -> the module that defines it. Imported on first use (PEP 562), so a process
#: that needs only part of the package (``edi-rehab rule U101``, a worker, the reader) does
#: not pay for the engine, the fixer and lxml at start-up.
_PUBLIC = {
    "Claim": "claims",
    "ServiceLine": "claims",
    "read_claims": "claims",
    "check": "engine",
    "Applicability": "findings",
    "Edit": "findings",
    "Finding": "findings",
    "Fix": "findings",
    "Severity": "findings",
    "FixResult": "fixes",
    "fix": "fixes",
    "ClaimPayment": "remits",
    "Remittance": "remits",
    "ServicePayment": "remits",
    "read_remittance": "remits",
    "Document": "x12",
    "ReadWarning": "x12",
    "X12ReadError": "x12",
    "X12Stream": "x12",
    "iter_events": "x12",
    "parse": "x12",
}


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))


__all__ = [
    "__version__",
    "parse",
    "iter_events",
    "X12Stream",
    "Document",
    "ReadWarning",
    "X12ReadError",
    "read_claims",
    "check",
    "fix",
    "FixResult",
    "Claim",
    "ServiceLine",
    "read_remittance",
    "Remittance",
    "ClaimPayment",
    "ServicePayment",
    "Finding",
    "Fix",
    "Edit",
    "Severity",
    "Applicability",
]
