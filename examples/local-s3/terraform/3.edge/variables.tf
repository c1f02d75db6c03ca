variable "state" {
  description = "Settings to read other layers' state: the backend config without key and credentials."
  type        = any
}

variable "site_dir" {
  description = "Where the edge layer writes its page (outside the repository)."
  type        = string
}

variable "message" {
  description = "What the page says."
  type        = string
  default     = "hello"
}
