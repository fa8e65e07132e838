"""The capacity model: from a fleet (meters, interval) to the platform it needs, on measured rates."""
