import VouchKit
