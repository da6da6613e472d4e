"""Peer support pages: staff (being built)."""

urlpatterns: list = []
