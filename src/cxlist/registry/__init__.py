"""Do-not-call registries kept on disk: the National DNC Registry, state and internal lists.

``import_files`` turns the registry's flat files and change files into a compact store (a
bitmap of 10,000,000 bits per area code, memory-mapped); ``Scrubber`` looks numbers up in
it, a vectorized lookup whose cost grows with the numbers checked, not with the registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cxlist.lazy import lazy_exports

if TYPE_CHECKING:
    from cxlist.registry.importer import FileReport, ImportReport, import_files
    from cxlist.registry.lookup import Registry, Scrubber, ScrubResult, registry_label
    from cxlist.registry.store import AreaData, Manifest, RegistryStore

# Imported on first use: reading a store's manifest (`cxlist dnc status`) needs neither the
# importer's polars nor the lookup's numpy.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "FileReport": "cxlist.registry.importer",
        "ImportReport": "cxlist.registry.importer",
        "import_files": "cxlist.registry.importer",
        "Registry": "cxlist.registry.lookup",
        "Scrubber": "cxlist.registry.lookup",
        "ScrubResult": "cxlist.registry.lookup",
        "registry_label": "cxlist.registry.lookup",
        "AreaData": "cxlist.registry.store",
        "Manifest": "cxlist.registry.store",
        "RegistryStore": "cxlist.registry.store",
    },
)

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
