"""Custom actions (rasa_sdk): thin glue between the dialogue and the service's API."""
