"""Producer profiles: public handles and the store page of each beatmaker and collaborator."""
