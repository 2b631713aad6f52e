"""The model's lifecycle: which model's vectors the catalog holds (embedding spaces), which model
query processes follow (the active-model record), training on the library, re-embedding into a
new model's space and the swap, and each model's fusion calibration."""
