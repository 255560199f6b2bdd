"""The sandbox's Admin API dialect: access-key sign-in, discovery documents, calling lists
with upload jobs that complete after a delay, skills and DNC groups, kept in the sandbox's
SQLite file and served through its fault injector.

Modules: :mod:`~cxlist.sandbox.admin.seed` (the seed's ``"admin"`` object),
:mod:`~cxlist.sandbox.admin.store` (the tables), :mod:`~cxlist.sandbox.admin.jobs` (upload
jobs and their settling), :mod:`~cxlist.sandbox.admin.listfile` (reading list files),
:mod:`~cxlist.sandbox.admin.phones` (phone numbers as CXone keeps them),
:mod:`~cxlist.sandbox.admin.views` (answer shapes: public clients' or alternates),
:mod:`~cxlist.sandbox.admin.tokens` (JWT-shaped tokens),
:mod:`~cxlist.sandbox.admin.routes` (the routes, mounted by :mod:`cxlist.sandbox.app`).
Only the seed is imported here: the seed module of the sandbox needs it, and the others
need the sandbox's store.
"""

from __future__ import annotations

from cxlist.sandbox.admin.seed import AdminSeed, parse_admin_seed

__all__ = ["AdminSeed", "parse_admin_seed"]
