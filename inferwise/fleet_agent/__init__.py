"""Programs that run on the instances of a SpotInferenceFleet (shipped in the wheel, installed by user data)."""
