"""Alongside: peer-support chat and group rooms for Intensive Outpatient Programs."""
