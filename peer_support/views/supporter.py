"""Peer support pages: supporter (being built)."""

urlpatterns: list = []
