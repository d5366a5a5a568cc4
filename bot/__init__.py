"""Everything of the assistant that is not Rasa, in layers whose imports point down:
`ops` -> `bootstrap` -> `adapters` -> `services` -> `settings` -> `domain` (checked by
`lint-imports`; the README's "Layout" says what lives where)."""
