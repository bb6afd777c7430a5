/// Placeholder until the in-process API server lands.
enum TestAPIServerPlaceholder {}
