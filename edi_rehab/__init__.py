"""edi-rehab: check, fix and trace X12 837P/835 files for therapy billing.

The public API takes and returns values; nothing here touches files (see the ``cli`` package)::

    import edi_rehab
    doc = edi_rehab.parse(data)          # lossless: doc.to_bytes() == data
    for tx in doc.transactions():
        claims = edi_rehab.read_claims(tx)
    result = edi_rehab.fix(data, unsafe=True)   # result.data: the fixed bytes
"""

__version__ = "0.1.0"

from .claims import Claim, ServiceLine, read_claims
from .engine import check
from .findings import Applicability, Edit, Finding, Fix, Severity
from .fixes import FixResult, fix
from .remits import ClaimPayment, Remittance, ServicePayment, read_remittance
from .x12 import Document, ReadWarning, X12ReadError, X12Stream, iter_events, parse

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
