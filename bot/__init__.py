"""The Hue-S assistant service: channels, gateway to Rasa, data and public APIs."""

__version__ = "0.1.0"
