"""How the processes start: `make run` (serve), `make shell` (shell), the Rasa
server (rasa_run), the action server (action_server), the channel and endpoint
files (channel_config), and the process helpers they share (processes)."""
