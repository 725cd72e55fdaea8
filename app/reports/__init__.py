"""Reports: reliability and scores per professional and team, as JSON and a printable HTML page."""
