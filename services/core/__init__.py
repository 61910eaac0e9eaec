"""Core pieces every service shares: settings, database, migrations, storage, logging."""
