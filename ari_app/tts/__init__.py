"""Speech synthesis: the Synthesizer protocol, espeak-ng through pyttsx3, and its cache."""
