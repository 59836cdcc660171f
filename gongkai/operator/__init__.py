"""The operator's commands, shipped in the image: serve (the containers' entrypoint), token,
rebuild, republish, audit and asyncapi."""
