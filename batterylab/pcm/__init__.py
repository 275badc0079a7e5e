"""Phase-change thermal storage coupled to the cell's electro-thermal model."""
