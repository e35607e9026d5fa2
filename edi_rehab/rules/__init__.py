"""Therapy billing rules, one module per family; the registry is ``edi_rehab.rules.registry``."""
