"""skops.io: a zip of JSON schema and arrays, loaded only with explicitly trusted types."""
