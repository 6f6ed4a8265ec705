print("pode")
