"""Identity and access: organisations, users, purchases, the designated contact, tokens, audit."""
