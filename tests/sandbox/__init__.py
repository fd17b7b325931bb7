"""The sandbox's own tests: both packages' servers over real HTTP, through the official SDKs."""
