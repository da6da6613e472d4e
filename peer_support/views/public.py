"""Peer support pages: public (being built)."""

urlpatterns: list = []
