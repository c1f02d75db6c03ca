variable "state" {
  description = "Settings to read other layers' state: the backend config without key and credentials."
  type        = any
}
