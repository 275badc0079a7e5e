"""Grid-interaction scenarios: V2G, smart delayed charging, fleet charge sharing, megawatt charging and backup, dynamic wireless charging."""
