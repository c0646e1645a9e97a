"""Live performance: stream generated frames over OSC and MIDI, in time, under control.

clock.py (beats <-> wall time), events.py (frames -> events, address scheme),
scheduler.py (the sending loop), sinks.py / osc_out.py / midi_out.py (outputs),
engine.py (generator thread + supervisor), control.py (OSC control server),
midi_in.py (MIDI clock and call and response), piece.py / perform.py (pieces).
"""
