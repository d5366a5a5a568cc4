"""The rasa-sdk action server: conversation steps that call the use cases in bot/services."""
