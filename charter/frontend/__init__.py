"""The front end's side of the contract: TypeScript types generated from content types."""
