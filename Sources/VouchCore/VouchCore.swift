// VouchCore: pure domain logic. See Merkle/.
