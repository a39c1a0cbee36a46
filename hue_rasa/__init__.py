"""Rasa extensions for the Hue-S assistant: Vietnamese NLU components and the gateway channel.

Runs in the engine environment (Python 3.10, Rasa 3.6). Modules import Rasa, so nothing here
is imported by the service.
"""
