"""edi-rehab: check, fix and trace X12 837P/835 files for therapy billing."""
