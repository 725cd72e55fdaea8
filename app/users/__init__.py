"""People sign in: accounts with roles, passwords, a second factor, server-side sessions and CSRF."""
