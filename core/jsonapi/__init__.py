"""The JSON API's shared parts: the root NinjaAPI, error envelope, ObjectId type, auth, pagination."""
