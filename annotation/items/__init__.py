"""Items: the unit of labeling, their metadata fields, the Data page, the item and media API."""
