"""Peer support pages, one module per audience: ``public`` (the request form), ``mine``
(service users), ``supporter`` (volunteers and workers who support people) and ``staff``
(peer support workers and coordinators). Thin: parse input, read through the scoped
selectors, call a service, audit what was shown."""
