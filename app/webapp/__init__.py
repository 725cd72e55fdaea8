"""The coordinator's web app under ``/app/``: teams, a wave's progress, its report, admin lists."""
