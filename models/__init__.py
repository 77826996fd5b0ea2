"""Data layer: ORM models (``entities``), queries per aggregate, and domain rules such as
deadline parsing (``deadlines``) and action-plan parsing (``plans``)."""
