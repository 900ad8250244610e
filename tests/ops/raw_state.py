"""A database's whole state, for byte-for-byte comparisons of backups, restores and recoveries."""

from core import backups


def raw_state(db) -> dict:
    """Every collection: its options, its indexes and the raw bytes of every document, by _id."""
    state = {}
    for info in db.list_collections():
        name = info["name"]
        if name.startswith("system."):
            continue
        documents = db.get_collection(name, codec_options=backups.RAW).find({}, sort=[("_id", 1)])
        state[name] = {
            "options": info.get("options", {}),
            "indexes": sorted(({k: v for k, v in ix.items() if k != "ns"} for ix in db[name].list_indexes()),
                              key=lambda ix: ix["name"]),
            "documents": [document.raw for document in documents],
        }
    return state
