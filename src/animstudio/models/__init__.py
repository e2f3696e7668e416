"""Models: the catalog of packaged weights, the warehouse they are assembled into, installs.

    >>> from animstudio.models import get_entry, resolve
    >>> resolve("smollm2-135m-instruct")      # Path of the verified GGUF, or ModelNotInstalledError
"""

from animstudio.models.catalog import CatalogEntry, ModelFile, Part, catalog, get_entry
from animstudio.models.warehouse import Warehouse, resolve

__all__ = ["CatalogEntry", "ModelFile", "Part", "Warehouse", "catalog", "get_entry", "resolve"]
