"""The collections team's console: `python -m bot console` (issue 15; README "Team console")."""
