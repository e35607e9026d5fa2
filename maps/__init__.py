"""Rule data for edi-rehab: code lists, NCCI pairs, modifier policy and payer profiles.

This folder is data, not code. It ships inside the wheel as ``edi_rehab.maps`` so that
``importlib.resources`` finds it from any working directory; ``edi_rehab.mapdata`` reads and validates it.
"""
