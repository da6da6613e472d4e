"""Peer support pages: mine (being built)."""

urlpatterns: list = []
