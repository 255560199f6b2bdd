"""Do-not-call registries kept on disk: the National DNC Registry, state and internal lists.

``import_files`` turns the registry's flat files and change files into a compact store (a
bitmap of 10,000,000 bits per area code, memory-mapped); ``Scrubber`` looks numbers up in
it, a vectorized lookup whose cost grows with the numbers checked, not with the registry.
"""

from __future__ import annotations

from cxlist.registry.importer import FileReport, ImportReport, import_files
from cxlist.registry.lookup import Registry, Scrubber, ScrubResult, registry_label
from cxlist.registry.store import AreaData, Manifest, RegistryStore

__all__ = [
    "AreaData",
    "FileReport",
    "ImportReport",
    "Manifest",
    "Registry",
    "RegistryStore",
    "ScrubResult",
    "Scrubber",
    "import_files",
    "registry_label",
]
