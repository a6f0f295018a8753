"""Persistence: models, repositories, encryption at rest and migrations. Only this package writes SQL."""
